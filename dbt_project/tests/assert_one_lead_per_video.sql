-- every video with at least one influencer has exactly one lead
with

influencer_videos as (

    select * from {{ ref('influencer_videos') }}

),

leads_per_video as (

    select
        video_id,
        count(*) filter (where role = 'lead') as n_leads
    from influencer_videos
    group by video_id

),

final as (

    select * from leads_per_video
    where n_leads <> 1

)

select * from final
