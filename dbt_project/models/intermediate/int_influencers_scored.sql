with

influencer_videos as (

    select * from {{ ref('int_influencer_videos_aggregated') }}

),

videos as (

    select * from {{ ref('stg_videos') }}

),

t_quantiles as (

    select * from {{ ref('int_student_t_quantiles') }}

),

-- one row per influencer per video: averages are over distinct videos, never faces
scored as (

    select
        influencer_videos.influencer_id,
        influencer_videos.video_id,
        videos.performance_score
    from influencer_videos
    inner join videos
        on influencer_videos.video_id = videos.video_id
    where videos.performance_score is not null

),

means as (

    select
        influencer_id,
        cast(count(*) as integer) as n_scored_videos,
        sum(performance_score) / count(*) as avg_performance
    from scored
    group by influencer_id

),

-- two-pass variances: exact, and stable for large scores
per_influencer as (

    select
        means.influencer_id,
        means.n_scored_videos,
        means.avg_performance,
        median(scored.performance_score) as median_performance,
        min(scored.performance_score) as min_performance,
        max(scored.performance_score) as max_performance,
        sum((scored.performance_score - means.avg_performance) ^ 2) as within_ss
    from means
    inner join scored
        on means.influencer_id = scored.influencer_id
    group by means.influencer_id, means.n_scored_videos, means.avg_performance

),

distinct_videos as (

    select distinct
        video_id,
        performance_score
    from scored

),

video_mean as (

    select
        sum(performance_score) / count(*) as prior_mean,
        count(*) as n_distinct_videos
    from distinct_videos

),

video_spread as (

    select
        video_mean.prior_mean,
        sum((distinct_videos.performance_score - video_mean.prior_mean) ^ 2)
        / nullif(video_mean.n_distinct_videos - 1, 0) as total_var
    from video_mean
    cross join distinct_videos
    group by video_mean.prior_mean, video_mean.n_distinct_videos

),

pooled as (

    select
        sum(within_ss) / nullif(sum(n_scored_videos - 1), 0) as pooled_within_var,
        sum(avg_performance) / count(*) as mean_of_means,
        avg(1.0 / n_scored_videos) as mean_inverse_n,
        count(*) as n_influencers
    from per_influencer

),

between_spread as (

    select
        pooled.pooled_within_var,
        pooled.mean_inverse_n,
        pooled.n_influencers,
        sum((per_influencer.avg_performance - pooled.mean_of_means) ^ 2)
        / nullif(pooled.n_influencers - 1, 0) as var_of_means
    from pooled
    cross join per_influencer
    group by
        pooled.pooled_within_var, pooled.mean_inverse_n, pooled.n_influencers, pooled.mean_of_means

),

-- normal-normal empirical Bayes, method of moments:
--   within variance = pooled within-influencer variance (all-video variance when no
--   influencer has 2 scored videos); between variance = var(influencer means)
--   - within * mean(1 / n), floored at a fraction of the all-video variance
-- named eb_prior, not prior: sqlfluff's duckdb dialect takes "+ prior.x" for the PRIOR keyword
eb_prior as (

    select
        video_spread.prior_mean,
        coalesce(between_spread.pooled_within_var, video_spread.total_var, 0.0) as within_var,
        greatest(
            coalesce(
                between_spread.var_of_means
                - coalesce(between_spread.pooled_within_var, video_spread.total_var, 0.0)
                * between_spread.mean_inverse_n,
                0.0
            ),
            {{ var('shrinkage_between_var_floor_ratio') }} * coalesce(video_spread.total_var, 0.0),
            1e-12
        ) as between_var
    from video_spread
    cross join between_spread

),

final as (

    select
        per_influencer.influencer_id,
        per_influencer.n_scored_videos,
        per_influencer.avg_performance,
        per_influencer.median_performance,
        sqrt(per_influencer.within_ss / nullif(per_influencer.n_scored_videos - 1, 0))
            as std_performance,
        per_influencer.min_performance,
        per_influencer.max_performance,
        per_influencer.avg_performance - t_quantiles.t_quantile
        * sqrt(
            per_influencer.within_ss / nullif(per_influencer.n_scored_videos - 1, 0)
            / per_influencer.n_scored_videos
        ) as ci90_low,
        per_influencer.avg_performance + t_quantiles.t_quantile
        * sqrt(
            per_influencer.within_ss / nullif(per_influencer.n_scored_videos - 1, 0)
            / per_influencer.n_scored_videos
        ) as ci90_high,
        eb_prior.prior_mean,
        eb_prior.within_var as prior_within_var,
        eb_prior.between_var as prior_between_var,
        -- written as one division so exact inputs give exact outputs
        eb_prior.prior_mean
        + eb_prior.between_var * (per_influencer.avg_performance - eb_prior.prior_mean)
        / (eb_prior.between_var + eb_prior.within_var / per_influencer.n_scored_videos)
            as shrunk_avg_performance
    from per_influencer
    cross join eb_prior
    left join t_quantiles
        on t_quantiles.df = per_influencer.n_scored_videos - 1

)

select * from final
