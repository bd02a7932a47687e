# Data-only module: the platform's messaging contract and service wiring, in Terraform.
#
# Why a module with no resources: the Service Bus topology, the KEDA scale rules and the RBAC
# role assignments all derive from the same "who consumes / who publishes what" table. Keeping
# that table in one place (locals.tf) means the three modules cannot drift from each other, and
# tests/unit/infra checks it against shared/shared/contracts/topics.py so it cannot drift from
# the Python contract either.
