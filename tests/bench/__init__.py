"""`make bench`: the project, on its accelerator and on stock FastAPI, against two floor apps,
on the seeded development database.

    python -m tests.bench [--quick] [--duration S] [--rounds N] [--connections 32,256]
                          [--workers 1,2] [--workloads user,posts,search,create-item]
                          [--servers uvicorn,granian]

Starts the API the production way (api/tools/serve.py: uvloop, httptools, no access log)
twice, with FAST_PATH=on (the accelerator; it must refuse to start rather than fall back, and
the report says so at its top if it did) and FAST_PATH=off (stock FastAPI), and two floor
apps running the same SQL from the registry with orjson and no validation (a plain FastAPI
route, a bare Starlette handler). It loads each from a separate process (wrk when installed,
otherwise tests/bench/loadgen.py), alternating them within every round (each round on newly
started processes), and prints the medians (requests/s, p50, p99, the server's and the
database's CPU per request), the ratios of the project and stock to the floors and to each
other, and each worker's resident memory after startup and after its round. `--servers
uvicorn,granian` serves the project and stock on granian too, beside uvicorn. Last, what
telemetry costs a request, in-process (tests/bench/telemetry.py), and what a flood of bad
sign-ins does to a point lookup beside it (tests/bench/signin_flood.py). Not collected by pytest
(norecursedirs).
"""
