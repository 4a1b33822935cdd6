with

videos as (

    select * from {{ ref('stg_videos') }}

),

influencer_videos as (

    select * from {{ ref('int_influencer_videos_aggregated') }}

),

loo as (

    select * from {{ ref('int_influencer_videos_loo_averaged') }}

),

faces as (

    select * from {{ ref('int_faces_clustered') }}

),

creative as (

    select * from {{ ref('video_features') }}

),

modelled_videos as (

    select * from videos
    where
        status in ('ok', 'no_faces')
        and performance_score is not null

),

leads as (

    select
        influencer_videos.video_id,
        influencer_videos.influencer_id as lead_influencer_id,
        influencer_videos.face_height_ratio,
        loo.loo_mean,
        loo.n_other_scored_videos
    from influencer_videos
    left join loo
        on
            influencer_videos.influencer_id = loo.influencer_id
            and influencer_videos.video_id = loo.video_id
    where influencer_videos.role = 'lead'

),

influencer_counts as (

    select
        video_id,
        cast(count(*) as integer) as n_influencers
    from influencer_videos
    group by video_id

),

-- sampled frames with at least one influencer on screen
influencer_frames as (

    select
        video_id,
        count(distinct frame_index) as n_frames
    from faces
    where influencer_id is not null
    group by video_id

),

final as (

    select
        modelled_videos.video_id,
        modelled_videos.performance_score,
        leads.loo_mean as lead_loo_mean,
        coalesce(leads.n_other_scored_videos, 0) as lead_n_other_videos,
        coalesce(influencer_counts.n_influencers, 0) as n_influencers,
        case
            when modelled_videos.duration_s > 0 then least(
                1.0,
                coalesce(influencer_frames.n_frames, 0) * modelled_videos.sample_interval_s
                / modelled_videos.duration_s
            )
        end as screen_share,
        leads.face_height_ratio,
        modelled_videos.duration_s,
        case when modelled_videos.height > modelled_videos.width then 1 else 0 end as is_vertical,
        leads.lead_influencer_id,
        coalesce(modelled_videos.n_faces, 0) as n_faces,
        creative.seconds_to_first_face,
        coalesce(creative.face_in_hook, 0) as face_in_hook,
        creative.closeup_share,
        creative.lead_gaze_share,
        creative.cuts_per_10s,
        coalesce(creative.has_known_person, 0) as has_known_person
    from modelled_videos
    left join leads
        on modelled_videos.video_id = leads.video_id
    left join influencer_counts
        on modelled_videos.video_id = influencer_counts.video_id
    left join influencer_frames
        on modelled_videos.video_id = influencer_frames.video_id
    left join creative
        on modelled_videos.video_id = creative.video_id

)

select * from final
