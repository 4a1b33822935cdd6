with

source as (

    select * from {{ source('raw', 'review_candidates') }}

),

final as (

    select
        cast(kind as varchar) as kind,
        cast(influencer_id as integer) as influencer_id,
        cast(other_id as integer) as other_id,
        cast(video_id as varchar) as video_id,
        cast(distance as double) as distance,
        cast(faceres_distance as double) as faceres_distance,
        cast(cluster_threshold as double) as cluster_threshold,
        cast(n_shared_videos as integer) as n_shared_videos,
        cast(kept_apart_by as varchar) as kept_apart_by,
        cast(rank as integer) as suggestion_rank,
        cast(clustered_at as timestamp) as clustered_at,
        cast(chance as double) as chance,
        cast(shown as boolean) as shown
    from source

)

select * from final
