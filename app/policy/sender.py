"""Who an email comes From: the CSM when their domain is authenticated, else the company
"via" address with Reply-To the CSM. Never spoof an unauthenticated domain."""

from __future__ import annotations

from dataclasses import dataclass

from channels.base import Address


@dataclass(frozen=True, slots=True)
class Sender:
    name: str
    email: str


def domain_of(email: str) -> str:
    return email.rsplit("@", 1)[-1].lower()


def choose_from(
    csm: Sender | None,
    default: Sender,
    authenticated_domains: frozenset[str],
) -> tuple[Address, Address | None]:
    """(From, Reply-To) for an email sent on behalf of ``csm``.

    - CSM on an authenticated domain: From and Reply-To are the CSM, so a reply lands in
      their inbox and the message passes DMARC.
    - CSM elsewhere: From is the default sender, named "Jane Doe via <default name>", and
      Reply-To is the CSM.
    - No CSM: From is the default sender, no Reply-To.
    """
    domains = frozenset(d.lower() for d in authenticated_domains)
    if csm is None:
        return Address(default.email, default.name), None
    csm_address = Address(csm.email, csm.name)
    if domain_of(csm.email) in domains:
        return csm_address, csm_address
    return Address(default.email, f"{csm.name} via {default.name}"), csm_address
