{{ config(materialized='table') }}
{#- A table, not a view: every read of a view would run the face models on every photo again. -#}

with

files as (

    -- an absent folder globs to no rows: then nobody gets a suggested name, and no error
    select file as photo_path
    from glob('{{ var("known_people_dir") | replace("'", "''") }}/*/*')
    where regexp_matches(lower(file), '\.(jpe?g|png|bmp|webp)$')

),

named as (

    select
        photo_path,
        -- the folder is the name; underscores as in Bill_Gates read as spaces
        replace(regexp_extract(photo_path, '([^/\\]+)[/\\][^/\\]+$', 1), '_', ' ') as person_name
    from files

),

final as (

    select
        photo_path,
        person_name,
        -- embed_face is the UDF ingest.warehouse.dbt_plugin registers (profiles.yml): NULL
        -- and a warning naming the file when it has no face
        embed_face(photo_path) as embedding
    from named

)

select * from final
