with

labels as (

    select * from {{ ref('labels') }}

),

final as (

    select
        column_name,
        label,
        unit,
        description
    from labels

)

select * from final
