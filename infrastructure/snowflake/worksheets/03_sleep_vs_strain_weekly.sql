-- Snowsight worksheet: weekly sleep and strain per member (the weekly aggregate mart).
SELECT *
FROM WHOOP.GOLD_BI.AGG_WEEKLY_USER
ORDER BY user_key, 2 DESC
LIMIT 500;
