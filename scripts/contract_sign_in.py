"""Signs in to a Tillpoint server as a till does, and prints the access token.

Used by scripts/contract.sh to get a real token for each demo role. Like a till on its first
start, it makes a new device id and Ed25519 device key, presents the key and proves it holds
it by signing the sign-in proof message (tillpoint-protocol's `sign_in_proof_message`:
context, lower-cased username, device id and device time, each ended by a NUL).

    python3 scripts/contract_sign_in.py http://127.0.0.1:8787 cashier   # password in
                                                                      # TILLPOINT_DEMO_PASSWORD
"""

import base64
import functools
import http.client
import json
import os
import sys
import time
import urllib.error
import urllib.request
import uuid

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

SIGN_IN_PROOF_CONTEXT = "tillpoint sign-in proof v1"
# The fuzzing signs in wrongly, on purpose and often, from 127.0.0.1, and the server throttles
# failed sign-ins per address: the runs' own sign-ins come from another loopback address, so
# they keep a budget of their own.
SIGN_IN_SOURCE = "127.0.0.2"
# Longer than a first lockout, shorter than a run that should give up.
MOST_WAIT_SECS = 180


def proof_message(username: str, device_id: str, device_time: int) -> bytes:
    parts = [SIGN_IN_PROOF_CONTEXT, username.strip().lower(), device_id, str(device_time)]
    return "".join(part + "\0" for part in parts).encode()


class FromSignInSource(urllib.request.HTTPHandler):
    def http_open(self, req):
        return self.do_open(
            functools.partial(http.client.HTTPConnection, source_address=(SIGN_IN_SOURCE, 0)), req
        )


def sign_in(base_url: str, username: str, password: str) -> str:
    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    # A fresh device for every sign-in: one run revoking another's device cannot end it.
    device_id = str(uuid.uuid4())
    # Should the throttle still be closed, wait as its Retry-After says, as a till does.
    opener = urllib.request.build_opener(FromSignInSource)
    waited = 0
    while True:
        # Signed afresh each time: the proof carries the device's time.
        device_time = int(time.time())
        body = {
            "username": username,
            "password": password,
            "device_id": device_id,
            "device_key": base64.b64encode(public).decode(),
            "device_time": device_time,
            "device_proof": base64.b64encode(
                key.sign(proof_message(username, device_id, device_time))
            ).decode(),
        }
        request = urllib.request.Request(
            base_url.rstrip("/") + "/api/v1/auth/login",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with opener.open(request, timeout=30) as response:
                return json.load(response)["access_token"]
        except urllib.error.HTTPError as err:
            detail = err.read().decode(errors="replace")
            retry_after = err.headers.get("Retry-After", "")
            if err.code == 429 and retry_after.isdigit() and waited + int(retry_after) <= MOST_WAIT_SECS:
                print(f"sign-in as {username}: throttled, waiting {retry_after} s", file=sys.stderr)
                time.sleep(int(retry_after) + 1)
                waited += int(retry_after) + 1
                continue
            sys.exit(f"sign-in as {username} failed: {err.code} {detail}")


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit("usage: contract_sign_in.py BASE_URL USERNAME (password in TILLPOINT_DEMO_PASSWORD)")
    password = os.environ.get("TILLPOINT_DEMO_PASSWORD")
    if not password:
        sys.exit("TILLPOINT_DEMO_PASSWORD is not set")
    print(sign_in(sys.argv[1], sys.argv[2], password))


if __name__ == "__main__":
    main()
