"""Every size limit and timeout of the helper in one place (helper-security.md §7.18-19).

Deviations from §7.18, and why: the connection cap is 64, not 16, because idle
keep-alive and header-pending connections are evicted oldest-first when it is reached
(so 100 slow or idle connections cannot lock an allowed page out), and the benchmark
drives 50 concurrent keep-alive clients; a browser opens at most 6 per host anyway.
"""

from __future__ import annotations

MAX_HEADER_BYTES = 8 * 1024         # request line + headers
MAX_JSON_BYTES = 16 * 1024          # status, certificates, login
MAX_JSON_DEPTH = 8
MAX_DECRYPT_BYTES = 1_536 * 1024    # a 1 MiB envelope head (or a 4 KiB ciphertext) in base64 + JSON
MAX_CIPHERTEXT = 4 * 1024           # decrypt (a): GM/T 0010 EnvelopedData (CBC goes through the key 64 bytes a call)
MAX_ENVELOPE_HEAD = 1024 * 1024 + 16 + 32
MAX_PDF_BYTES = 50 * 1024 * 1024    # sign-pdf, streamed to a private spool file
MAX_CONNECTIONS = 64

HEADER_TIMEOUT = 10.0               # first byte .. end of headers (slowloris)
BODY_TIMEOUT = 30.0                 # whole JSON body
PDF_BODY_TIMEOUT = 120.0            # whole PDF upload
KEEP_ALIVE_TIMEOUT = 5.0            # idle keep-alive connection
USER_TIMEOUT = 120.0                # consent, review and PIN each (max 300 s)
UKEY_TIMEOUT = 30.0                 # one token call (app.token's own timeout)

CANCELS_BEFORE_BLOCK = 3            # user cancels by one origin ...
CANCEL_WINDOW = 60.0                # ... within this many seconds ...
BLOCK_SECONDS = 300.0               # ... pause that origin's key operations this long
RECENT_REQUESTS = 50                # kept in memory for the tray icon
