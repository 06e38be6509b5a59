"""Category 6, duplicates (cleansing): records in one system that look like one customer.

Two CRM accounts (or two ERP customers) are likely duplicates when their names are the same
after normalisation (case, spacing, punctuation) and one more thing agrees: the country, the
email domain of the primary contact, or the tax id. ERP customers whose crosswalk names the
same CRM account are duplicates by definition. Groups are reported with the evidence and
never merged: merging moves orders, contacts and history, and a person picks the survivor.

Memory: one small key tuple per record scanned (not the records).
"""

from __future__ import annotations

from collections import defaultdict

from resolvers.records import Customer, ErpCustomer

from ..findings import Category, Difference, Finding, Fix, Kind, RecordRef, Rule, Severity, System
from ..normalise import email_domain, norm_country, norm_name, norm_text

CRM_ACCOUNTS = Rule(
    Category.DUPLICATES,
    "duplicate_accounts",
    Severity.INFO,
    "CRM accounts with the same normalised name and the same country, email domain or tax id.",
)
ERP_CUSTOMERS = Rule(
    Category.DUPLICATES,
    "duplicate_customers",
    Severity.INFO,
    "ERP customers with the same normalised name and the same country or tax id.",
)
SHARED_CROSSWALK = Rule(
    Category.DUPLICATES,
    "shared_crosswalk",
    Severity.WARNING,
    "Several ERP customers point to the same CRM account (custom_crm_account_id).",
)
RULES = (CRM_ACCOUNTS, ERP_CUSTOMERS, SHARED_CROSSWALK)
_NOT_MERGED = (
    "merging moves orders, contacts and history onto one record; a person must choose the "
    "survivor, so Crossdock never merges"
)


class Duplicates:
    """Groups records by their matching keys while a scan runs; `findings()` at the end."""

    def __init__(self) -> None:
        self._groups: dict[tuple[str, ...], dict[str, str]] = defaultdict(dict)
        self._shared: dict[str, dict[str, str]] = defaultdict(dict)

    def add_account(self, account: Customer) -> None:
        name = norm_name(account.name)
        if not name:
            return
        address = account.billing_address or account.shipping_address
        country = norm_country(address.country if address else None)
        for evidence, value in (
            ("country", country),
            ("email domain", email_domain(account.email)),
        ):
            if value:
                self._groups["crm", name, evidence, value][account.id] = account.name

    def add_customer(self, customer: ErpCustomer) -> None:
        name = norm_name(customer.customer_name)
        country = norm_country(customer.address.address.country if customer.address else None)
        for evidence, value in (("country", country), ("tax id", norm_text(customer.tax_id))):
            if name and value:
                self._groups["erp", name, evidence, value][customer.name] = customer.customer_name
        if customer.crm_account_id:
            self._shared[customer.crm_account_id][customer.name] = customer.customer_name

    def findings(self) -> list[Finding]:
        found: dict[str, Finding] = {}
        for (system, name, evidence, value), members in sorted(self._groups.items()):
            if len(members) > 1:
                finding = _group(system, name, evidence, value, members)
                found.setdefault(finding.id, finding)
        for account_id, members in sorted(self._shared.items()):
            if len(members) > 1:
                finding = _shared(account_id, members)
                found.setdefault(finding.id, finding)
        return list(found.values())


def _group(system: str, name: str, evidence: str, value: str, members: dict[str, str]) -> Finding:
    crm = system == "crm"
    rule = CRM_ACCOUNTS if crm else ERP_CUSTOMERS
    where: System = "crm" if crm else "erp"
    kind: Kind = "customer" if crm else "erp_customer"
    ids = tuple(sorted(members))
    names = ", ".join(repr(members[i]) for i in ids)
    what = "CRM accounts" if crm else "ERP customers"
    return Finding(
        rule,
        ids,
        f"{len(ids)} {what} look like one customer: {names} (same name {name!r} and "
        f"{evidence} {value}).",
        tuple(RecordRef(where, kind, i, members[i]) for i in ids),
        Fix(
            "Merge them in the "
            + ("CRM (Zoho: Deduplicate Accounts)" if crm else "ERP (Rename with merge)")
            + ", or tell them apart if they are different customers.",
            who="a data steward",
            why=_NOT_MERGED,
        ),
        (Difference("name", name, name), Difference(evidence, value, value)),
    )


def _shared(account_id: str, members: dict[str, str]) -> Finding:
    ids = tuple(sorted(members))
    names = ", ".join(repr(members[i]) for i in ids)
    return Finding(
        SHARED_CROSSWALK,
        (account_id,),
        f"ERP customers {names} all point to CRM account {account_id}: mirrors of its orders "
        "may land on either.",
        (
            RecordRef("crm", "customer", account_id, None),
            *(RecordRef("erp", "erp_customer", i, members[i]) for i in ids),
        ),
        Fix(
            "Merge the ERP customers (Rename with merge) or point all but one elsewhere.",
            who="a data steward",
            why=_NOT_MERGED,
        ),
        (Difference("custom_crm_account_id", account_id, ", ".join(ids)),),
    )
