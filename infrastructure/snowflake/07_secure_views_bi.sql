-- Secure BI views and member-level security: REFERENCE ONLY, nothing here needs running.
-- Terraform (terraform/governance.tf) creates GOVERNANCE.MEMBER_ACCESS_MAP and the row access
-- policy; dbt (models/bi, `--select tag:bi --vars '{wdp_bi_views: true}'`) creates one secure
-- view per gold table in GOLD_BI over GOLD_PUBLISHED and attaches the policy
-- (macros/member_access.sql). Names: shared/shared/snowflake_naming.json.

CREATE ROW ACCESS POLICY IF NOT EXISTS WHOOP.GOVERNANCE.MEMBER_ACCESS AS (MEMBER NUMBER)
RETURNS BOOLEAN ->
    EXISTS (
        SELECT 1 FROM WHOOP.GOVERNANCE.MEMBER_ACCESS_MAP AS m
        WHERE m.USER_KEY = MEMBER
          AND (   (m.VIEWER_TYPE = 'USER' AND m.VIEWER = CURRENT_USER())
               OR (m.VIEWER_TYPE = 'ROLE' AND IS_ROLE_IN_SESSION(m.VIEWER))
               OR (m.VIEWER_TYPE = 'ACCOUNT' AND m.VIEWER = CURRENT_ACCOUNT()))
    );

-- What dbt runs per member-bearing view (FACT_PREDICTIONS shown; anomalies are its
-- IS_ANOMALY / ANOMALY_SCORE / ANOMALY_REASONS columns):
CREATE OR REPLACE SECURE VIEW WHOOP.GOLD_BI.FACT_PREDICTIONS AS
SELECT * FROM WHOOP.GOLD_PUBLISHED.FACT_PREDICTIONS;
ALTER VIEW WHOOP.GOLD_BI.FACT_PREDICTIONS
    ADD ROW ACCESS POLICY WHOOP.GOVERNANCE.MEMBER_ACCESS ON (USER_KEY);

-- Give a coach (a Snowflake user), a BI role, or a coach's consumer account (the share) a member:
INSERT INTO WHOOP.GOVERNANCE.MEMBER_ACCESS_MAP (VIEWER_TYPE, VIEWER, USER_KEY)
VALUES ('USER', 'COACH_ANNA', 10129), ('ROLE', 'WDP_BI_ALL_MEMBERS', 10129),
       ('ACCOUNT', 'XY12345', 10129);
