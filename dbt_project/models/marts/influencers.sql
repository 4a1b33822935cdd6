with

influencer_videos as (

    select * from {{ ref('int_influencer_videos_aggregated') }}

),

videos as (

    select * from {{ ref('stg_videos') }}

),

faces as (

    select * from {{ ref('int_faces_clustered') }}

),

scores as (

    select * from {{ ref('int_influencers_scored') }}

),

matches as (

    select * from {{ ref('int_influencers_matched') }}

),

named as (

    select * from {{ ref('int_influencers_named') }}

),

appearances as (

    select
        influencer_videos.influencer_id,
        cast(count(*) as integer) as n_videos,
        cast(sum(influencer_videos.n_faces) as integer) as n_faces,
        sum(influencer_videos.seconds_on_screen) as seconds_on_screen,
        sum(videos.duration_s) as total_duration_s,
        cast(count(*) filter (where influencer_videos.role = 'lead') as integer) as n_lead_videos,
        arg_min(influencer_videos.video_id, videos.row_number) as first_video_id,
        arg_max(influencer_videos.video_id, videos.row_number) as last_video_id
    from influencer_videos
    inner join videos
        on influencer_videos.video_id = videos.video_id
    group by influencer_videos.influencer_id

),

-- highest centroid similarity, then detection score, then face_id for determinism
representative_faces as (

    select
        influencer_id,
        face_id as representative_face_id,
        crop_path as representative_face_path
    from faces
    where influencer_id is not null
    qualify row_number() over (
        partition by influencer_id
        order by centroid_similarity desc nulls last, det_score desc nulls last, face_id asc
    ) = 1

),

joined as (

    select
        appearances.influencer_id,
        -- a hand-set name first, then one proposed by known_people photos, then a stable
        -- default that follows the stable id
        coalesce(
            named.given_name,
            matches.suggested_name,
            'Person ' || appearances.influencer_id
        ) as influencer_name,
        matches.suggested_name,
        matches.suggested_similarity,
        coalesce(named.is_hidden, false) as is_hidden,
        appearances.n_videos,
        appearances.n_faces,
        appearances.seconds_on_screen,
        case
            when appearances.total_duration_s > 0
                then least(1.0, appearances.seconds_on_screen / appearances.total_duration_s)
        end as screen_share,
        scores.avg_performance,
        scores.median_performance,
        scores.std_performance,
        scores.min_performance,
        scores.max_performance,
        scores.ci90_low,
        scores.ci90_high,
        scores.shrunk_avg_performance,
        appearances.first_video_id,
        appearances.last_video_id,
        representative_faces.representative_face_id,
        representative_faces.representative_face_path,
        coalesce(scores.n_scored_videos, 0) as n_scored_videos,
        appearances.n_lead_videos,
        scores.prior_mean as prior_mean_performance,
        -- "consistently beats the rest": the whole interval is above the all-video mean
        coalesce(scores.ci90_low > scores.prior_mean, false) as beats_average_consistently
    from appearances
    left join scores
        on appearances.influencer_id = scores.influencer_id
    left join representative_faces
        on appearances.influencer_id = representative_faces.influencer_id
    left join matches
        on appearances.influencer_id = matches.influencer_id
    left join named
        on appearances.influencer_id = named.influencer_id

),

ranked as (

    select
        joined.*,
        case
            -- hidden people (crew, bystanders) are listed but never ranked
            when joined.shrunk_avg_performance is not null and not joined.is_hidden
                then row_number() over (
                    order by
                        joined.is_hidden asc,
                        joined.shrunk_avg_performance desc nulls last,
                        joined.n_scored_videos desc,
                        joined.influencer_id asc
                )
        end as performance_rank
    from joined

),

final as (

    select
        influencer_id,
        influencer_name,
        is_hidden,
        n_videos,
        n_faces,
        seconds_on_screen,
        screen_share,
        avg_performance,
        median_performance,
        std_performance,
        min_performance,
        max_performance,
        ci90_low,
        ci90_high,
        shrunk_avg_performance,
        performance_rank,
        first_video_id,
        last_video_id,
        representative_face_id,
        representative_face_path,
        n_scored_videos,
        n_lead_videos,
        prior_mean_performance,
        beats_average_consistently,
        suggested_name,
        suggested_similarity
    from ranked

)

select * from final
