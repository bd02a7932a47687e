"""The transformer service: rebuilds silver and gold with dbt whenever bronze changes.

Consumes ``warehouse.bronze-loaded``, debounces bursts, runs ``dbt build`` through one warm
in-process dbt runner under the warehouse write lock, and publishes ``warehouse.gold-updated``
with the users and local dates whose gold rows changed.
"""
