with

source as (

    select * from {{ source('raw', 'ingest_runs') }}

),

final as (

    select
        cast(run_id as varchar) as run_id,
        cast(started_at as timestamp) as started_at,
        cast(finished_at as timestamp) as finished_at,
        cast(csv_path as varchar) as csv_path,
        cast(settings_json as varchar) as settings_json,
        cast(n_rows as integer) as n_rows,
        cast(n_ok as integer) as n_ok,
        cast(n_no_faces as integer) as n_no_faces,
        cast(n_download_failed as integer) as n_download_failed,
        cast(n_decode_failed as integer) as n_decode_failed,
        cast(n_rejected as integer) as n_rejected
    from source

)

select * from final
