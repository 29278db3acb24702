"""Every ``sounding`` command: the group and its general commands (:mod:`.cli`), the
development server (:mod:`.devserver`), the demo data (:mod:`.demo`), ``explain``,
``widget-key`` and ``sms-reply``."""
