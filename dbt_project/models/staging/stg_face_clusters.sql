with

source as (

    select * from {{ source('raw', 'face_clusters') }}

),

final as (

    select
        cast(face_id as varchar) as face_id,
        cast(cluster_id as integer) as cluster_id,
        cast(track_id as varchar) as track_id,
        cast(centroid_similarity as double) as centroid_similarity,
        cast(embedder as varchar) as embedder,
        cast(method as varchar) as method,
        cast(clustered_at as timestamp) as clustered_at
    from source

)

select * from final
