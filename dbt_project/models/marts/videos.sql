with

videos as (

    select * from {{ ref('stg_videos') }}

),

influencer_videos as (

    select * from {{ ref('int_influencer_videos_aggregated') }}

),

faces as (

    select * from {{ ref('int_faces_clustered') }}

),

influencer_counts as (

    select
        video_id,
        cast(count(*) as integer) as n_influencers,
        max(case when role = 'lead' then influencer_id end) as lead_influencer_id
    from influencer_videos
    group by video_id

),

face_counts as (

    select
        video_id,
        cast(count(*) filter (where influencer_id is null) as integer) as n_unassigned_faces,
        -- the largest face's crop: a thumbnail ingest already wrote (no video decoded again)
        arg_max(crop_path, [box_area, det_score]) as thumbnail_path
    from faces
    group by video_id

),

-- a short name for the source: the file name of a path, host (and last part) of a URL
source_parts as (

    select
        video_id,
        regexp_matches(source_url, '^[a-zA-Z][a-zA-Z0-9+.-]*://') as is_url,
        regexp_extract(source_url, '^[^:]+://(www[.])?([^/?#]+)', 2) as url_host,
        string_split(
            trim(regexp_extract(source_url, '^[^:]+://[^/?#]+([^?#]*)', 1), '/'), '/'
        ) as segments,
        regexp_extract(source_url, '([^/\\]+)[/\\]*$', 1) as file_name
    from videos

),

source_labels as (

    select
        video_id,
        case
            when not is_url then file_name
            when segments[-1] = '' then url_host
            when len(segments) = 1 then url_host || '/' || segments[-1]
            else url_host || '/…/' || segments[-1]
        end as source_label
    from source_parts

),

final as (

    select
        videos.video_id,
        videos.row_number,
        videos.source_url,
        videos.status,
        videos.error,
        videos.performance_score,
        videos.duration_s,
        videos.width,
        videos.height,
        case
            when videos.width is null or videos.height is null then null
            when videos.height > videos.width then 'vertical'
            when videos.height < videos.width then 'horizontal'
            else 'square'
        end as orientation,
        videos.n_faces,
        case
            when videos.status in ('ok', 'no_faces')
                then coalesce(influencer_counts.n_influencers, 0)
        end as n_influencers,
        influencer_counts.lead_influencer_id,
        videos.performance_raw,
        videos.fps,
        videos.sample_interval_s,
        videos.n_frames_sampled,
        case
            when videos.status in ('ok', 'no_faces')
                then coalesce(face_counts.n_unassigned_faces, 0)
        end as n_unassigned_faces,
        videos.decoded_share,
        face_counts.thumbnail_path,
        source_labels.source_label
    from videos
    left join influencer_counts
        on videos.video_id = influencer_counts.video_id
    left join face_counts
        on videos.video_id = face_counts.video_id
    left join source_labels
        on videos.video_id = source_labels.video_id

)

select * from final
