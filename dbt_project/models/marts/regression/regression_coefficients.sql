with

fit as (

    select * from {{ ref('regression_fit') }}
    where grain = 'feature'

),

final as (

    select
        key as feature,
        coefficient,
        std_error,
        note
    from fit

)

select * from final
