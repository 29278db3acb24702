"""Building what Sounding says to people: message content (:mod:`.content`), the editable
email templates (:mod:`.email_templates`), signed links (:mod:`.links`) and translations
(:mod:`.i18n`)."""
