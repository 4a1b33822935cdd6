with

influencer_videos as (

    select * from {{ ref('int_influencer_videos_aggregated') }}

),

videos as (

    select * from {{ ref('stg_videos') }}

),

final as (

    select
        influencer_videos.influencer_id,
        influencer_videos.video_id,
        videos.row_number,
        videos.source_url,
        videos.performance_score,
        influencer_videos.n_faces,
        influencer_videos.seconds_on_screen,
        influencer_videos.screen_share,
        influencer_videos.face_height_ratio,
        influencer_videos.role,
        influencer_videos.n_frames,
        influencer_videos.mean_box_area
    from influencer_videos
    inner join videos
        on influencer_videos.video_id = videos.video_id

)

select * from final
