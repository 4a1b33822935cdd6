{#- Custom schemas are used as-is (staging, intermediate), not prefixed with the target
    schema; models without one land in the target schema (main), where the marts live. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
