with

videos as (

    select * from {{ ref('stg_videos') }}
    where status in ('ok', 'no_faces')

),

frames as (

    select * from {{ ref('int_frames_summarized') }}

),

faces as (

    select * from {{ ref('int_faces_posed') }}

),

influencer_videos as (

    select * from {{ ref('int_influencer_videos_aggregated') }}

),

named as (

    select * from {{ ref('int_influencers_named') }}

),

matched as (

    select * from {{ ref('int_influencers_matched') }}

),

first_faces as (

    select
        video_id,
        min(timestamp_s) as seconds_to_first_face
    from faces
    group by video_id

),

framing as (

    select
        video_id,
        cast(sum(case when is_closeup then 1 else 0 end) as integer) as n_closeup_frames,
        cast(sum(is_change) as integer) as n_changes
    from frames
    group by video_id

),

lead_gaze as (

    select
        influencer_videos.video_id,
        avg(case when faces.looks_at_camera then 1.0 else 0.0 end) as lead_gaze_share
    from influencer_videos
    inner join faces
        on
            influencer_videos.video_id = faces.video_id
            and influencer_videos.influencer_id = faces.influencer_id
    where influencer_videos.role = 'lead'
    group by influencer_videos.video_id

),

-- a known person: named by hand (seed people) or by reference photos (known_people/)
cast_members as (

    select
        influencer_videos.video_id,
        cast(count(*) as integer) as n_influencers,
        cast(max(
            case
                when named.given_name is not null or matched.suggested_name is not null then 1
                else 0
            end
        ) as integer) as has_known_person
    from influencer_videos
    left join named
        on influencer_videos.influencer_id = named.influencer_id
    left join matched
        on influencer_videos.influencer_id = matched.influencer_id
    group by influencer_videos.video_id

),

final as (

    select
        videos.video_id,
        videos.performance_score,
        videos.duration_s,
        videos.n_frames_sampled,
        first_faces.seconds_to_first_face,
        case
            when first_faces.seconds_to_first_face <= {{ var('hook_seconds') }} then 1 else 0
        end as face_in_hook,
        case
            when videos.n_frames_sampled > 0
                then coalesce(framing.n_closeup_frames, 0) / videos.n_frames_sampled
        end as closeup_share,
        lead_gaze.lead_gaze_share,
        cast(coalesce(framing.n_changes, 0) as integer) as n_changes,
        case
            when
                videos.duration_s > 0
                then 10.0 * coalesce(framing.n_changes, 0) / videos.duration_s
        end as cuts_per_10s,
        coalesce(cast_members.n_influencers, 0) as n_influencers,
        case
            when coalesce(cast_members.n_influencers, 0) = 0 then 'none'
            when cast_members.n_influencers = 1 then 'solo'
            when cast_members.n_influencers = 2 then 'duo'
            else 'group'
        end as cast_size,
        coalesce(cast_members.has_known_person, 0) as has_known_person
    from videos
    left join first_faces
        on videos.video_id = first_faces.video_id
    left join framing
        on videos.video_id = framing.video_id
    left join lead_gaze
        on videos.video_id = lead_gaze.video_id
    left join cast_members
        on videos.video_id = cast_members.video_id

)

select * from final
