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
        cast(count(*) filter (where influencer_id is null) as integer) as n_unassigned_faces
    from faces
    group by video_id

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
        videos.decoded_share
    from videos
    left join influencer_counts
        on videos.video_id = influencer_counts.video_id
    left join face_counts
        on videos.video_id = face_counts.video_id

)

select * from final
