"""Who may change an order, and who may see what it has cost and paid: the one rule.

A sales order belongs to the salesperson whose name is its ``owner``; a sales token (or page
login) is that salesperson when its name equals the owner. Sales may enter orders for
themselves, update only their own, and never hand an order to someone else; they see the
payment side (paid, open amounts, instalments, overdue) only of their own orders. Admin, IT and
finance see and change everything. The API, the pages and the receivables routes all ask here,
so the rule cannot drift between them.
"""

from __future__ import annotations

from typing import Any, Protocol

from hub.auth.models import Role

#: Shown in place of the payment side of an order the caller does not own.
NOT_YOUR_ORDER = "not your order"


class Principal(Protocol):
    """An API token or a page login: all the rule needs is the role and the name."""

    @property
    def role(self) -> Role: ...

    @property
    def name(self) -> str: ...


class NotYourOrder(PermissionError):
    """A sales caller tried to change an order that is not theirs, or give it to someone else."""


def owns(principal: Principal, owner: str | None) -> bool:
    """Whether a sales caller is the order's owner (an order without owner belongs to no one)."""
    return owner is not None and owner == principal.name


def can_see_payments(principal: Principal, order: dict[str, Any]) -> bool:
    """Whether ``principal`` may see the payment side of ``order`` (a status or detail dict)."""
    return principal.role != Role.sales or owns(principal, order.get("owner"))


def check_may_update(
    principal: Principal, existing_owner: str | None, *, exists: bool, new_owner: str | None
) -> str | None:
    """The owner an entered order is stored with, or ``NotYourOrder`` when a sales caller
    updates an order that is not its own (``exists`` and another ``existing_owner``) or names
    another salesperson as ``new_owner``. A sales caller's order without owner becomes its own;
    an update that names no owner keeps the stored one (a client leaving the field out does not
    take the order away from its salesperson)."""
    if principal.role != Role.sales:
        return new_owner if new_owner is not None or not exists else existing_owner
    if exists and not owns(principal, existing_owner):
        raise NotYourOrder(
            f"this order belongs to {existing_owner or 'no salesperson'}; a sales token may update only its own orders"
        )
    if new_owner is not None and new_owner != principal.name:
        raise NotYourOrder(
            f"a sales token may enter orders only for itself ({principal.name!r}), "
            f"not for {new_owner!r}; IT or an admin can reassign an order"
        )
    return principal.name


def for_viewer(principal: Principal, status: dict[str, Any]) -> dict[str, Any]:
    """``status`` as ``principal`` may see it: without paid, open amounts, instalments, the
    overdue flag and invoice amounts (or their changes in the timeline) when not theirs."""
    if can_see_payments(principal, status):
        return status
    hidden = {
        key: value for key, value in status.items() if key not in ("paid", "next_instalment", "instalments", "overdue")
    }
    hidden["invoices"] = [
        {"id": i["id"], "number": i["number"], "issued_on": i["issued_on"]} for i in status.get("invoices", [])
    ]
    hidden["timeline"] = [
        {**entry, "before": None, "after": None}
        if entry.get("entity") in ("invoice", "payment", "instalment")
        else entry
        for entry in status.get("timeline", [])
    ]
    hidden["payment_details"] = NOT_YOUR_ORDER
    return hidden
