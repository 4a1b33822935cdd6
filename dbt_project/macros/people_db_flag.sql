{#- The `--db` part of an `ingest people ...` command for the warehouse dbt builds: empty for the
    default data/warehouse.duckdb, else the path dbt was given (INFLUENCER_LENS_DB, which the
    Makefile exports absolute), shortened to be relative to the folder dbt runs from, quoted
    for a shell where it needs it. A SQL string literal. -#}
{% macro people_db_flag() -%}
    {%- set db = env_var('INFLUENCER_LENS_DB', 'data/warehouse.duckdb') -%}
    {%- set cwd = env_var('PWD', '') -%}
    {%- if cwd and db.startswith(cwd ~ '/') -%}
        {%- set db = db[cwd | length + 1:] -%}
    {%- endif -%}
    {%- if db in ('data/warehouse.duckdb', './data/warehouse.duckdb') -%}
        ''
    {%- elif modules.re.fullmatch('[A-Za-z0-9_./-]+', db) -%}
        ' --db {{ db }}'
    {%- else -%}
        ' --db "{{ db | replace("'", "''") | replace('"', '\\"') }}"'
    {%- endif -%}
{%- endmacro %}
