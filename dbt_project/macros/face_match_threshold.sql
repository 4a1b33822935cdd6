{#- The same-person cutoff (cosine similarity) for faces embedded by the embedder in column
    `embedder`. var face_match_threshold maps embedder -> threshold, since each embedder has its
    own spread of similarities (docs/face_search.md); a single number, as in
    `--vars '{face_match_threshold: 0.5}'`, holds for every embedder. A mapping passed with
    --vars replaces the project's whole mapping. An embedder it lacks gets null: its influencers
    are named by nobody, and influencer_embeddings' not_null test on same_person_threshold
    fails the build, so the gap shows. -#}
{% macro face_match_threshold(embedder) -%}
    {%- set t = var('face_match_threshold') -%}
    {%- if t is mapping and t | length > 0 -%}
        case {{ embedder }}
        {%- for name, value in t.items() %} when '{{ name }}' then cast({{ 'null' if value is none else value }} as double){% endfor %}
        end
    {%- elif t is mapping or t is none -%}
        cast(null as double)
    {%- else -%}
        cast({{ t }} as double)
    {%- endif -%}
{%- endmacro %}
