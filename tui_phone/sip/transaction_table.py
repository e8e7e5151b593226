"""The transaction table: finds the transaction an incoming message belongs to.

Pure bookkeeping (RFC 3261 17.1.3, 17.2.3, 9.2): the edge adds the transactions
it creates, asks where each incoming message goes, feeds the machine, and drops
terminated transactions (:meth:`TransactionTable.remove_terminated`, or
:meth:`~TransactionTable.remove` on a :class:`TransactionTerminated` effect).
A terminated transaction still in the table matches nothing.

A typical request path at the edge::

    route = table.route_request(request)
    if route.disposition is RequestDisposition.NEW:
        txn = ServerNonInviteTransaction(request, source, reliable=...)  # or Invite
        table.add(txn)
        effects = txn.start(now)        # RequestReceived -> the TU
        # a CANCEL: the TU looks up table.cancel_target(request) (9.2)
    elif route.disposition is RequestDisposition.EXISTING:
        effects = route.transaction.on_request(request, now)   # ACKs included
    else:  # ACK_TO_TU: the ACK for a 2xx, a dialog matter (13.3.1.4)
        ...
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from .errors import LocalProtocolError
from .message import SipRequest, SipResponse
from .transaction import (
    ClientTransactionKey,
    ServerKey,
    Transaction,
    cancel_target_key,
    client_transaction_key,
    server_transaction_key,
)
from .transaction_client import ClientTransaction
from .transaction_server import ServerInviteTransaction, ServerTransaction


class RequestDisposition(StrEnum):
    """Where an incoming request goes."""

    EXISTING = "existing transaction"  # a retransmission, or the ACK for a non-2xx
    NEW = "new transaction"  # create a server transaction for it
    ACK_TO_TU = "ACK to TU"  # an ACK matching no transaction: the ACK for a 2xx


@dataclass(frozen=True, slots=True)
class RequestRoute:
    """The answer of :meth:`TransactionTable.route_request`."""

    disposition: RequestDisposition
    transaction: ServerTransaction | None = None
    #: The request's server transaction key (what a new transaction for it is stored under).
    key: ServerKey | None = field(default=None, compare=False)


class TransactionTable:
    """Live client and server transactions by their matching keys."""

    __slots__ = ("_clients", "_servers")

    def __init__(self) -> None:
        self._clients: dict[ClientTransactionKey, ClientTransaction] = {}
        self._servers: dict[ServerKey, ServerTransaction] = {}

    def add(self, transaction: ClientTransaction | ServerTransaction) -> None:
        """Store a transaction; its key must not belong to a live transaction."""
        if isinstance(transaction, ClientTransaction):
            _check_free(self._clients.get(transaction.key), transaction.key)
            self._clients[transaction.key] = transaction
        elif isinstance(transaction, ServerTransaction):
            _check_free(self._servers.get(transaction.key), transaction.key)
            self._servers[transaction.key] = transaction
        else:
            raise LocalProtocolError(f"not a transaction: {transaction!r}")

    def route_response(self, response: SipResponse) -> ClientTransaction | None:
        """The client transaction of a response (RFC 3261 17.1.3), or None.

        None means no transaction: RFC 3261 18.1.2 passes such a response to
        the core, which resends the ACK for a retransmitted 2xx to INVITE
        (13.2.2.4) and discards anything else.
        """
        key = client_transaction_key(response)
        if key is None:
            return None
        transaction = self._clients.get(key)
        if transaction is None or transaction.terminated:
            return None
        return transaction

    def route_request(self, request: SipRequest) -> RequestRoute:
        """Where a request goes (RFC 3261 17.2.3)."""
        key = server_transaction_key(request)
        transaction = self._servers.get(key)
        if transaction is not None and transaction.terminated:
            transaction = None
        if request.method == "ACK":
            if isinstance(transaction, ServerInviteTransaction) and transaction.matches_ack(
                request
            ):
                return RequestRoute(RequestDisposition.EXISTING, transaction, key)
            return RequestRoute(RequestDisposition.ACK_TO_TU, key=key)
        if transaction is None:
            return RequestRoute(RequestDisposition.NEW, key=key)
        return RequestRoute(RequestDisposition.EXISTING, transaction, key)

    def cancel_target(self, cancel: SipRequest) -> ServerInviteTransaction | None:
        """The live INVITE server transaction a CANCEL applies to (RFC 3261 9.2).

        None means the UAS answers the CANCEL with 481. Whether there is still
        something to cancel (no final response yet: state Proceeding) is for
        the TU to judge; when there is, it answers the INVITE with 487 (9.2).
        """
        transaction = self._servers.get(cancel_target_key(cancel))
        if isinstance(transaction, ServerInviteTransaction) and not transaction.terminated:
            return transaction
        return None

    def client(self, key: ClientTransactionKey) -> ClientTransaction | None:
        """The client transaction stored under ``key``."""
        return self._clients.get(key)

    def server(self, key: ServerKey) -> ServerTransaction | None:
        """The server transaction stored under ``key``."""
        return self._servers.get(key)

    def remove(self, transaction: ClientTransaction | ServerTransaction) -> None:
        """Forget a transaction (it is fine if it is not stored)."""
        if isinstance(transaction, ClientTransaction):
            if self._clients.get(transaction.key) is transaction:
                del self._clients[transaction.key]
        elif self._servers.get(transaction.key) is transaction:
            del self._servers[transaction.key]

    def remove_terminated(self) -> list[Transaction]:
        """Drop every terminated transaction and return them."""
        removed: list[Transaction] = []
        for client_key, client in list(self._clients.items()):
            if client.terminated:
                del self._clients[client_key]
                removed.append(client)
        for server_key, server in list(self._servers.items()):
            if server.terminated:
                del self._servers[server_key]
                removed.append(server)
        return removed

    def __len__(self) -> int:
        return len(self._clients) + len(self._servers)

    def __iter__(self) -> Iterator[Transaction]:
        yield from self._clients.values()
        yield from self._servers.values()


def _check_free(old: Transaction | None, key: object) -> None:
    if old is not None and not old.terminated:
        raise LocalProtocolError(f"a live transaction already has the key {key}")


__all__ = ["RequestDisposition", "RequestRoute", "TransactionTable"]
