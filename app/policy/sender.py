"""Who an email comes From: the CSM when their domain is authenticated, else the company
"via" address with Reply-To the CSM. Never spoof an unauthenticated domain."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Sender:
    """A name and an email address (a From or a Reply-To)."""

    name: str
    email: str


def domain_of(email: str) -> str:
    return email.rsplit("@", 1)[-1].lower()


def choose_from(
    csm: Sender | None,
    default: Sender,
    authenticated_domains: frozenset[str],
) -> tuple[Sender, Sender | None]:
    """(From, Reply-To) for an email sent on behalf of ``csm``.

    - CSM on an authenticated domain: From and Reply-To are the CSM, so a reply lands in
      their inbox and the message passes DMARC.
    - CSM elsewhere: From is the default sender, named "Jane Doe via <default name>", and
      Reply-To is the CSM.
    - No CSM: From is the default sender, no Reply-To.
    """
    domains = frozenset(d.lower() for d in authenticated_domains)
    if csm is None:
        return default, None
    if domain_of(csm.email) in domains:
        return csm, csm
    return Sender(f"{csm.name} via {default.name}", default.email), csm
