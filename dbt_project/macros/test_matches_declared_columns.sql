{#- Fails on every column where the built table and its model's .yml disagree: name, position,
    or a declared data_type. dbt enforces contracts on SQL models only; this holds the others
    (Python models, a model with a column of no fixed type) to their .yml all the same. -#}
{% test matches_declared_columns(model) %}

{%- set declared = [] -%}
{%- if execute -%}
  {%- for node in graph.nodes.values()
        if node.resource_type == 'model'
        and node.alias == model.identifier
        and node.schema == model.schema -%}
    {%- do declared.extend(node.columns.values()) -%}
  {%- endfor -%}
{%- endif -%}

with

declared as (

    select
        cast(null as integer) as position,
        cast(null as varchar) as column_name,
        cast(null as varchar) as data_type
    where false
    {%- for column in declared %}
    union all
    select
        {{ loop.index }},
        '{{ column.name }}',
        {#- DuckDB spells the type as information_schema does: FLOAT[128], not float[128] #}
        {% if column.data_type %}typeof(cast(null as {{ column.data_type }})){% else %}null{% endif %}
    {%- endfor %}

),

built as (

    select
        ordinal_position as position,
        column_name,
        data_type
    from information_schema.columns
    where table_catalog = '{{ model.database }}'
      and table_schema = '{{ model.schema }}'
      and table_name = '{{ model.identifier }}'

)

select
    coalesce(declared.position, built.position) as position,
    declared.column_name as declared_column,
    built.column_name as built_column,
    declared.data_type as declared_type,
    built.data_type as built_type
from declared
full outer join built
    on declared.position = built.position
where declared.column_name is distinct from built.column_name
   or (declared.data_type is not null and declared.data_type is distinct from built.data_type)

{% endtest %}
