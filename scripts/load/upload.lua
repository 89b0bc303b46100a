-- wrk script: POST the file named by $ECERT_UPLOAD_FILE to /verify (raw body).
local path = os.getenv("ECERT_UPLOAD_FILE")
local f = assert(io.open(path, "rb"))
wrk.method = "POST"
wrk.body = f:read("*all")
f:close()
wrk.headers["Content-Type"] = "application/ofd"
wrk.headers["Accept"] = "application/json"
-- Verdicts are counted by the server: see ecert_verify_uploads_total in /metrics.
