with

source as (

    select * from {{ source('raw', 'faces') }}

),

final as (

    -- kept apart from stg_faces so marts that do not need 512 floats per face never read them
    select
        cast(face_id as varchar) as face_id,
        cast(embedder as varchar) as embedder,
        embedding
    from source

)

select * from final
