{#- Per user and ISO week: the averages the Power BI trend pages plot. Averages skip days
    without a value (no recovery, open cycle); naps are left out of asleep minutes. -#}
{{ user_period_averages('week') }}
