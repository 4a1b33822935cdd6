with

fit as (

    select * from {{ ref('regression_fit') }}
    where grain = 'video'

),

final as (

    select
        key as video_id,
        performance_score,
        predicted,
        baseline_predicted,
        fold
    from fit

)

select * from final
