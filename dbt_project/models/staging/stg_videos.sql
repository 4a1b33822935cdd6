with

source as (

    select * from {{ source('raw', 'videos') }}

),

final as (

    select
        cast(video_id as varchar) as video_id,
        cast(row_number as integer) as row_number,
        cast(source_url as varchar) as source_url,
        cast(performance_raw as varchar) as performance_raw,
        cast(performance_score as double) as performance_score,
        cast(status as varchar) as status,
        cast(error as varchar) as error,
        cast(content_sha256 as varchar) as content_sha256,
        cast(duration_s as double) as duration_s,
        cast(fps as double) as fps,
        cast(width as integer) as width,
        cast(height as integer) as height,
        cast(sample_interval_s as double) as sample_interval_s,
        cast(n_frames_sampled as integer) as n_frames_sampled,
        cast(n_faces as integer) as n_faces,
        cast(embedder as varchar) as embedder,
        cast(settings_hash as varchar) as settings_hash,
        cast(ingested_at as timestamp) as ingested_at,
        cast(decoded_share as double) as decoded_share
    from source

)

select * from final
