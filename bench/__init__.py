"""Benchmarks: how close the shop comes to the limits that really bind (issue 5).

`make bench` (= `python -m bench`) starts the real shop as its own `python -m bot` process
against the Telegram and Stripe stand-ins on loopback, drives the five scenarios, prints one
table and writes it to `bench/RESULTS.md`. It is deliberately not part of `make test`: it takes
minutes and measures, rather than checks, behaviour.
"""
