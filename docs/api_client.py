"""Record a client payment through the Collective API and print how it was split.

Python's standard library only. Make a token on your profile's tokens page (or with
`flask --app collective tokens create --user EMAIL --name NAME`), then:

    python docs/api_client.py --url http://127.0.0.1:5000 --token col_... \\
        --collective demo --pitch 12 --amount 15000 --currency USD --reference INV-7

`--amount` is in minor units (15000 is 150.00); a payment in another currency than the
collective's needs `--rate`, the base units one unit of it is worth. The request carries a
fresh Idempotency-Key, so sending it again after a timeout records nothing twice.
"""
from __future__ import annotations

import argparse
import datetime
import json
import sys
import urllib.error
import urllib.request
import uuid


class ApiError(Exception):
    """The API refused a request; `error` is its error object (status, code, message,
    fields)."""

    def __init__(self, error: dict) -> None:
        super().__init__(f"{error.get('status')} {error.get('code')}: {error.get('message')}"
                         + (f" {error['fields']}" if error.get("fields") else ""))
        self.error = error


class Api:
    """A small client of /api/v1 with a personal access token."""

    def __init__(self, base_url: str, token: str,
                 opener: urllib.request.OpenerDirector | None = None) -> None:
        self.base_url = base_url.rstrip("/") + "/api/v1"
        self.token = token
        self.opener = opener or urllib.request.build_opener()

    def request(self, method: str, path: str, body: dict | None = None,
                headers: dict[str, str] | None = None) -> dict:
        """Send one request; return the JSON answer, or raise ApiError."""
        data = None if body is None else json.dumps(body).encode()
        sent = {"Authorization": f"Bearer {self.token}", "Accept": "application/json",
                **({"Content-Type": "application/json"} if data is not None else {}),
                **(headers or {})}
        request = urllib.request.Request(self.base_url + path, data=data, method=method,
                                         headers=sent)
        try:
            with self.opener.open(request, timeout=30) as response:
                return json.load(response)
        except urllib.error.HTTPError as exc:
            try:
                error = json.load(exc)["error"]
            except (ValueError, KeyError):
                error = {"status": exc.code, "code": "http", "message": exc.reason}
            raise ApiError(error) from None


def record_payment_and_read_split(api: Api, collective: str, *, pitch_id: int, amount: int,
                                  currency: str, received_on: str, reference: str = "",
                                  rate: str | None = None) -> tuple[dict, dict]:
    """Record a payment (once, whatever retries happen) and read back its split."""
    body = {"pitch_id": pitch_id, "amount": amount, "currency": currency,
            "received_on": received_on, "reference": reference}
    if rate is not None:
        body["rate"] = rate
    payment = api.request("POST", f"/collectives/{collective}/payments", body,
                          headers={"Idempotency-Key": str(uuid.uuid4())})
    split = api.request("GET", f"/collectives/{collective}/payments/{payment['id']}/split")
    return payment, split


def describe(payment: dict, split: dict) -> str:
    """The split as lines of text, amounts in minor units of the base currency."""
    lines = [f"payment {payment['id']}: {payment['amount']} {payment['currency']} "
             f"= {payment['base_amount']} {split['currency']}, split by {split['method']}",
             f"  common fund: {split['common_fund']}"]
    lines += [f"  {line['name']}: {line['total']}" for line in split["lines"]]
    if split["hidden_count"]:
        lines.append(f"  {split['hidden_count']} others: {split['hidden_total']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None,
         opener: urllib.request.OpenerDirector | None = None) -> int:
    """Parse the command line, record the payment, print the split."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--collective", required=True, help="the collective's slug")
    parser.add_argument("--pitch", type=int, required=True)
    parser.add_argument("--amount", type=int, required=True, help="in minor units")
    parser.add_argument("--currency", required=True)
    parser.add_argument("--rate")
    parser.add_argument("--reference", default="")
    parser.add_argument("--received-on", default=datetime.date.today().isoformat())
    args = parser.parse_args(argv)
    api = Api(args.url, args.token, opener)
    try:
        payment, split = record_payment_and_read_split(
            api, args.collective, pitch_id=args.pitch, amount=args.amount,
            currency=args.currency.upper(), received_on=args.received_on,
            reference=args.reference, rate=args.rate)
    except ApiError as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 1
    print(describe(payment, split))
    return 0


if __name__ == "__main__":
    sys.exit(main())
