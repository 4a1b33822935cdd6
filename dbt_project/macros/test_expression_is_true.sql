{#- Fails on every row where `expression` is false. A null expression passes (use not_null
    for that). Usage: - expression_is_true: {expression: "min_x <= max_x"} -#}
{% test expression_is_true(model, expression, column_name=None) %}

select *
from {{ model }}
where not ({{ expression }})

{% endtest %}
