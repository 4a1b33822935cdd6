{#- Fails on every non-null value of the column outside [min_value, max_value]
    (or the open interval with inclusive: false). Either bound may be omitted. -#}
{% test is_between(model, column_name, min_value=None, max_value=None, inclusive=True) %}

{%- set lower_op = '>=' if inclusive else '>' -%}
{%- set upper_op = '<=' if inclusive else '<' -%}
select *
from {{ model }}
where {{ column_name }} is not null
  and not (
      true
      {%- if min_value is not none %} and {{ column_name }} {{ lower_op }} {{ min_value }}{% endif %}
      {%- if max_value is not none %} and {{ column_name }} {{ upper_op }} {{ max_value }}{% endif %}
  )

{% endtest %}
