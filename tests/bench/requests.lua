-- wrk script for the bench: replays the requests file (tests/bench/requests_file.py), one
-- request per line (method, path, bearer token, JSON body; tab-separated), in order and
-- round again, then prints wrk's own figures as one JSON line for tests/bench/wrk.py.
--   wrk -t1 -c32 -d5s --timeout 10s -s requests.lua http://127.0.0.1:8000 -- requests.tsv

local prepared = {}
local position = 1

function init(args)
    for line in io.lines(args[1]) do
        local method, path, token, body = line:match("^(%u+)\t([^\t]+)\t([^\t]*)\t(.*)$")
        local headers = {}
        if token ~= "" then
            headers["Authorization"] = "Bearer " .. token
        end
        if body == "" then
            body = nil
        else
            headers["Content-Type"] = "application/json"
        end
        prepared[#prepared + 1] = wrk.format(method, path, headers, body)
    end
end

function request()
    local next_request = prepared[position]
    position = position % #prepared + 1
    return next_request
end

function done(summary, latency, _)
    local errors = summary.errors
    io.write(string.format(
        'BENCH_RESULT {"requests": %d, "seconds": %f, "errors": {"status": %d, "timeout": %d, '
            .. '"socket": %d}, "p50_us": %f, "p99_us": %f}\n',
        summary.requests, summary.duration / 1e6, errors.status, errors.timeout,
        errors.connect + errors.read + errors.write, latency:percentile(50), latency:percentile(99)
    ))
end
