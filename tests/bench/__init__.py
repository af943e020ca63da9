"""`make bench`: the project against two floor apps, on the seeded development database.

    python -m tests.bench [--quick] [--duration S] [--rounds N] [--connections 32,256]
                          [--workers 1,2] [--workloads user,posts,search,create-item]

Starts the API the production way (api/tools/serve.py: uvloop, httptools, no access log) and
two floor apps running the same SQL from the registry with orjson and no validation (a plain
FastAPI route, a bare Starlette handler), loads each from a separate process (wrk when
installed, otherwise tests/bench/loadgen.py), alternating the three within every round (each
round on newly started processes), and prints the medians (requests/s, p50, p99, the
server's and the database's CPU per request), the project's ratios to each floor, and each
worker's resident memory after startup and after its round. Not collected by pytest
(norecursedirs).
"""
