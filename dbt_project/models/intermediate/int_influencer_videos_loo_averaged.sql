with

influencer_videos as (

    select * from {{ ref('int_influencer_videos_aggregated') }}

),

videos as (

    select * from {{ ref('stg_videos') }}

),

scored as (

    select
        influencer_videos.influencer_id,
        influencer_videos.video_id,
        videos.performance_score
    from influencer_videos
    inner join videos
        on influencer_videos.video_id = videos.video_id

),

totals as (

    select
        scored.*,
        count(scored.performance_score) over (partition by scored.influencer_id) as n_scored,
        sum(scored.performance_score) over (partition by scored.influencer_id) as sum_scored
    from scored

),

-- leave-one-out: the influencer's other scored videos, never the video itself
final as (

    select
        influencer_id,
        video_id,
        performance_score,
        n_scored - case when performance_score is not null then 1 else 0 end
            as n_other_scored_videos,
        (sum_scored - coalesce(performance_score, 0))
        / nullif(n_scored - case when performance_score is not null then 1 else 0 end, 0)
            as loo_mean
    from totals

)

select * from final
