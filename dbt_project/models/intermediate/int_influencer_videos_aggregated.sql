with

faces as (

    select * from {{ ref('int_faces_clustered') }}

),

videos as (

    select * from {{ ref('stg_videos') }}

),

influencer_faces as (

    select * from faces
    where influencer_id is not null

),

aggregated as (

    select
        influencer_faces.influencer_id,
        influencer_faces.video_id,
        cast(count(*) as integer) as n_faces,
        cast(count(distinct influencer_faces.frame_index) as integer) as n_frames,
        avg(influencer_faces.face_height_ratio) as face_height_ratio,
        avg(influencer_faces.box_area) as mean_box_area
    from influencer_faces
    group by influencer_faces.influencer_id, influencer_faces.video_id

),

timed as (

    select
        aggregated.*,
        aggregated.n_frames * videos.sample_interval_s as seconds_on_screen,
        videos.duration_s
    from aggregated
    left join videos
        on aggregated.video_id = videos.video_id

),

-- lead = largest mean face box in the video; ties -> most faces, then lowest id
ranked as (

    select
        timed.*,
        row_number() over (
            partition by timed.video_id
            order by timed.mean_box_area desc, timed.n_faces desc, timed.influencer_id asc
        ) as size_rank
    from timed

),

final as (

    select
        influencer_id,
        video_id,
        n_faces,
        n_frames,
        seconds_on_screen,
        case
            when duration_s > 0 then least(1.0, seconds_on_screen / duration_s)
        end as screen_share,
        face_height_ratio,
        mean_box_area,
        case when size_rank = 1 then 'lead' else 'co-star' end as role
    from ranked

)

select * from final
