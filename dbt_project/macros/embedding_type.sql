{#- The SQL type of raw.faces.embedding (FLOAT[512] for FaceNet, FLOAT[128] for dlib): centroids
    are cast to it so array_cosine_similarity compares them with stored embeddings and with
    embed_face(), which ingest.warehouse.dbt_plugin registers at the same size. At parse time,
    when nothing can be queried, FaceNet's. -#}
{% macro embedding_type() %}
  {%- set found = [] -%}
  {%- if execute -%}
    {%- set relation = adapter.get_relation(database=target.database, schema='raw', identifier='faces') -%}
    {%- if relation is not none -%}
      {%- for column in adapter.get_columns_in_relation(relation) if column.name == 'embedding' -%}
        {%- do found.append(column.data_type) -%}
      {%- endfor -%}
    {%- endif -%}
  {%- endif -%}
  {{- found[0] if found else 'FLOAT[512]' -}}
{% endmacro %}
