with

source as (

    select * from {{ source('raw', 'people_corrections') }}

),

final as (

    select
        cast(action as varchar) as action,
        cast(influencer_id as integer) as influencer_id,
        cast(other_id as integer) as other_id,
        cast(video_id as varchar) as video_id,
        cast(name as varchar) as given_name
    from source

)

select * from final
