"""The client that sets up, seeds and inspects the demo's (and the test suite's) Tryton.

It *is* the connector's :class:`~connectors.tryton.rpc.TrytonRPC` (same sessions, value
encoding, retries and "log in again once on 401"), so every test that reads or changes the
ERP through it exercises the product's own client, not a private copy. What it adds is what
setting up an ERP needs and a connector does not: a context per call, warnings answered
"yes", wizards, XML ids, counts, strict reads.

The per-call context rides on :attr:`context`: the connector sends ``self.context`` as the
last parameter of every call (and reloads it on a re-login), so the overrides of one call
are merged into it for that call only. A call re-sent after a 401 therefore keeps them
(``wizard.account.invoice.pay.create`` needs its ``active_ids``, and is the call Tryton
answers 401 after five idle minutes).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from typing import Any, Self

from connectors.tryton.rpc import TrytonError, TrytonRPC

__all__ = ["Rpc", "TrytonError"]

_RPC_PARAMETERS = inspect.signature(TrytonRPC.__init__).parameters
FormValues = Mapping[str, Any] | Callable[[dict[str, Any]], Mapping[str, Any]]


class Rpc(TrytonRPC):
    """``TrytonRPC`` plus per-call context, warnings, wizards and model shortcuts."""

    def __init__(
        self, url: str, database: str, login: str, password: str, *, timeout: float = 120.0, attempts: int = 4
    ) -> None:
        self._preferences: dict[str, Any] = {}
        self._overrides: dict[str, Any] = {}
        # ``retries`` since the connector's session log-in moved into ``connectors.auth``
        tries: dict[str, int] = {"retries": attempts - 1} if "retries" in _RPC_PARAMETERS else {"attempts": attempts}
        super().__init__(url, database, login, password, timeout=timeout, **tries)
        self.database = database

    # -- the session key: the connector's (on its ``auth`` once it has one), settable so a test
    #    can make it stale and watch the client log in again

    @property
    def session(self) -> str | None:
        auth = self.__dict__.get("auth")
        return auth.session if auth is not None else self.__dict__.get("_session")

    @session.setter
    def session(self, value: str | None) -> None:
        if (auth := self.__dict__.get("auth")) is not None:
            auth.session = value
        else:
            self.__dict__["_session"] = value

    # -- the context: the user's preferences, plus this call's overrides

    @property
    def context(self) -> dict[str, Any]:
        return {**self._preferences, **self._overrides}

    @context.setter
    def context(self, value: dict[str, Any]) -> None:
        self._preferences = dict(value)

    @contextmanager
    def _overriding(self, context: Mapping[str, Any] | None) -> Iterator[None]:
        saved, self._overrides = self._overrides, {**self._overrides, **(context or {})}
        try:
            yield
        finally:
            self._overrides = saved

    # -- session

    def login(self) -> Self:  # type: ignore[override]
        super().login()
        return self

    def refresh_context(self) -> dict[str, Any]:
        """Reload the user's preferences (after giving the user a company, say)."""
        self.context = super().call("model.res.user.get_preferences", True)
        return self.context

    def logout(self) -> None:
        if self.session is not None:
            with suppress(Exception):
                super().call("common.db.logout")
        self.session = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- calls

    def call(
        self,
        method: str,
        *params: Any,
        once: bool = False,
        context: Mapping[str, Any] | None = None,
        skip_warnings: bool = False,
    ) -> Any:
        """``method(*params, context)``; with ``skip_warnings`` a ``UserWarning`` is answered
        as the desktop client's "Yes" does (``res.user.warning.skip``) and the call made again."""
        skipped: list[str] = []
        for _attempt in range(10):
            try:
                with self._overriding(context):
                    return super().call(method, *params, once=once)
            except TrytonError as exc:
                if not (skip_warnings and exc.kind == "UserWarning"):
                    raise
                name = exc.payload[0] if isinstance(exc.payload, list | tuple) else str(exc.payload)
                super().call("model.res.user.warning.skip", name, False)
                skipped.append(str(exc))
        raise TrytonError(method, ["UserWarning", f"still warning after 10 answers: {skipped[-1]}"])

    def search(
        self,
        model: str,
        domain: Sequence[Any] = (),
        limit: int | None = None,
        order: Sequence[Sequence[str]] | None = None,
        *,
        offset: int = 0,
        context: Mapping[str, Any] | None = None,
    ) -> list[int]:
        return list(self.call(f"model.{model}.search", list(domain), offset, limit, order, context=context))

    def search_read(
        self,
        model: str,
        domain: Sequence[Any] = (),
        fields: Sequence[str] = ("id",),
        *,
        offset: int = 0,
        limit: int | None = None,
        order: Sequence[Sequence[str]] | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        return list(
            self.call(f"model.{model}.search_read", list(domain), offset, limit, order, list(fields), context=context)
        )

    def search_count(self, model: str, domain: Sequence[Any] = (), *, context: Mapping[str, Any] | None = None) -> int:
        return int(self.call(f"model.{model}.search_count", list(domain), 0, None, context=context))

    def read(
        self, model: str, ids: Iterable[int], fields: Sequence[str], *, context: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """The records in the order of ``ids``; an id Tryton does not return is an error."""
        ids = list(ids)
        if not ids:
            return []
        rows = {r["id"]: r for r in self.call(f"model.{model}.read", ids, list(fields), context=context)}
        if missing := [i for i in ids if i not in rows]:
            raise LookupError(f"Tryton {model}: no records {missing} (of {ids})")
        return [rows[i] for i in ids]

    def create(
        self, model: str, values: Sequence[Mapping[str, Any]], *, context: Mapping[str, Any] | None = None
    ) -> list[int]:
        return list(self.call(f"model.{model}.create", [dict(v) for v in values], once=True, context=context))

    def write(
        self,
        model: str,
        ids: Iterable[int],
        values: Mapping[str, Any],
        *,
        once: bool = False,
        context: Mapping[str, Any] | None = None,
    ) -> None:
        self.call(f"model.{model}.write", list(ids), dict(values), once=once, context=context)

    def delete(self, model: str, ids: Iterable[int], *, context: Mapping[str, Any] | None = None) -> None:
        self.call(f"model.{model}.delete", list(ids), context=context)

    def button(
        self,
        model: str,
        name: str,
        ids: Iterable[int],
        *,
        context: Mapping[str, Any] | None = None,
        skip_warnings: bool = False,
    ) -> Any:
        """A workflow button (``quote``, ``confirm``, a shipment's ``do``…)."""
        return self.call(f"model.{model}.{name}", list(ids), context=context, skip_warnings=skip_warnings)

    def model_data_id(self, module: str, xml_id: str) -> int:
        """The database id of the modules' XML record ``module.xml_id``."""
        return int(self.call("model.ir.model.data.get_id", module, xml_id))

    def wizard(
        self,
        name: str,
        steps: Sequence[tuple[str, FormValues]],
        *,
        active_model: str | None = None,
        active_ids: Sequence[int] = (),
        context: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Run wizard ``name`` as the client does: for each ``(button, values)`` the shown form
        is submitted with its defaults updated by ``values`` (a mapping, or a function of the
        form), then ``button`` is pressed. Returns the forms seen (``{state: form}``) and
        ``"_result"``, the last answer."""
        ctx = dict(context or {})
        if active_model:
            ctx.update(
                active_model=active_model, active_id=active_ids[0] if active_ids else None, active_ids=list(active_ids)
            )
        session, start, _end = self.call(f"wizard.{name}.create", context=ctx)
        seen: dict[str, Any] = {}
        try:
            result = self.call(f"wizard.{name}.execute", session, {}, start, context=ctx)
            for button, values in steps:
                data: dict[str, Any] = {}
                if view := result.get("view"):
                    form = {**(view.get("defaults") or {}), **(view.get("values") or {})}
                    seen[view["state"]] = dict(form)
                    form.update(values(form) if callable(values) else values)
                    data[view["state"]] = {k: v for k, v in form.items() if not k.endswith(".")}
                result = self.call(f"wizard.{name}.execute", session, data, button, context=ctx)
        finally:
            self.call(f"wizard.{name}.delete", session, context=ctx)
        seen["_result"] = result
        return seen
