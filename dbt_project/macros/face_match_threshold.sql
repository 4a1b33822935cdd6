{#- The same-person cutoff (cosine similarity) for faces embedded by the embedder in column
    `embedder`. var face_match_threshold maps embedder -> threshold, since each embedder has its
    own spread of similarities (docs/face_search.md); a single number, as in
    `--vars '{face_match_threshold: 0.5}'`, holds for every embedder. An embedder the mapping
    lacks gets null, which names nobody. -#}
{% macro face_match_threshold(embedder) -%}
    {%- set t = var('face_match_threshold') -%}
    {%- if t is mapping -%}
        case {{ embedder }}
        {%- for name, value in t.items() %} when '{{ name }}' then cast({{ value }} as double){% endfor %}
        end
    {%- else -%}
        cast({{ t }} as double)
    {%- endif -%}
{%- endmacro %}
