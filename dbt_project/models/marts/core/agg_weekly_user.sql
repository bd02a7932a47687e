{#- Per user and ISO week: the averages the Power BI trend pages plot. Averages skip days
    without a value (no recovery, unscored cycle or sleep); naps are left out of total sleep
    minutes. -#}
{{ user_period_averages('week') }}
