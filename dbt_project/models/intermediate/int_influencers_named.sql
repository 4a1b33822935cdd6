with

corrections as (

    select * from {{ ref('stg_people') }}

),

-- the file holds at most one name row per id (ingest refuses a second), so max() picks it
named as (

    select
        influencer_id,
        max(given_name) filter (where action = 'name') as given_name,
        bool_or(action = 'hide') as is_hidden
    from corrections
    where action in ('name', 'hide')
    group by influencer_id

),

final as (

    select * from named

)

select * from final
