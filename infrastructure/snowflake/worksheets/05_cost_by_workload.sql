-- Snowsight worksheet (ACCOUNTADMIN or a role with SNOWFLAKE database access): credits per
-- workload last 30 days, attributed through the COST_CENTER tag Terraform puts on every
-- warehouse.
SELECT t.tag_value AS cost_center, m.warehouse_name, SUM(m.credits_used) AS credits
FROM SNOWFLAKE.ACCOUNT_USAGE.WAREHOUSE_METERING_HISTORY AS m
JOIN SNOWFLAKE.ACCOUNT_USAGE.TAG_REFERENCES AS t
    ON t.domain = 'WAREHOUSE' AND t.object_name = m.warehouse_name AND t.tag_name = 'COST_CENTER'
WHERE m.start_time >= DATEADD(day, -30, CURRENT_TIMESTAMP())
GROUP BY 1, 2
ORDER BY credits DESC;
