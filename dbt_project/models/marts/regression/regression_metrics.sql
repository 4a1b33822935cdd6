with

fit as (

    select * from {{ ref('regression_fit') }}
    where grain = 'model'

),

final as (

    select
        key as model,
        n_videos,
        n_features,
        n_folds,
        cv_r2,
        cv_mae,
        note
    from fit

)

select * from final
