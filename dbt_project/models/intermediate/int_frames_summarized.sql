with

videos as (

    select * from {{ ref('stg_videos') }}
    where status in ('ok', 'no_faces') and n_frames_sampled > 0

),

faces as (

    select * from {{ ref('int_faces_posed') }}

),

-- every sampled frame, faces or not: frame k of n sits at (k + 0.5) * sample_interval_s
slots as (

    select
        video_id,
        sample_interval_s,
        unnest(generate_series(0, n_frames_sampled - 1)) as slot
    from videos

),

ranked as (

    select
        faces.video_id,
        faces.face_height_ratio,
        faces.centre_x_share,
        faces.centre_y_share,
        faces.track_id,
        cast(round(faces.timestamp_s / videos.sample_interval_s - 0.5) as bigint) as slot,
        count(*) over (partition by faces.video_id, faces.frame_index) as n_faces,
        row_number() over (
            partition by faces.video_id, faces.frame_index
            order by faces.face_height_ratio desc, faces.face_id asc
        ) as size_rank
    from faces
    inner join videos
        on faces.video_id = videos.video_id

),

largest as (

    select * from ranked
    where size_rank = 1

),

framed as (

    select
        slots.video_id,
        slots.slot,
        (slots.slot + 0.5) * slots.sample_interval_s as slot_time_s,
        cast(coalesce(largest.n_faces, 0) as integer) as n_faces,
        largest.face_height_ratio as largest_face_height_ratio,
        largest.centre_x_share,
        largest.centre_y_share,
        largest.track_id
    from slots
    left join largest
        on slots.video_id = largest.video_id and slots.slot = largest.slot

),

with_previous as (

    select
        *,
        lag(n_faces) over by_slot as prev_n_faces,
        lag(largest_face_height_ratio) over by_slot as prev_height,
        lag(centre_x_share) over by_slot as prev_x,
        lag(centre_y_share) over by_slot as prev_y,
        lag(track_id) over by_slot as prev_track_id
    from framed
    window by_slot as (partition by video_id order by slot)

),

-- what 1 fps can see of a cut: faces come or go, their number changes, another person is the
-- largest face, or the largest face jumps in size or place between two sampled frames
final as (

    select
        video_id,
        slot,
        slot_time_s,
        n_faces,
        largest_face_height_ratio,
        coalesce(largest_face_height_ratio >= {{ var('closeup_face_height') }}, false)
            as is_closeup,
        case
            when prev_n_faces is null then 0
            when n_faces != prev_n_faces then 1
            when n_faces = 0 then 0
            when track_id is not null and prev_track_id is not null and track_id != prev_track_id
                then 1
            when greatest(
                largest_face_height_ratio / nullif(prev_height, 0),
                prev_height / nullif(largest_face_height_ratio, 0)
            ) >= {{ var('pace_size_ratio') }} then 1
            when sqrt(
                (centre_x_share - prev_x) * (centre_x_share - prev_x)
                + (centre_y_share - prev_y) * (centre_y_share - prev_y)
            ) >= {{ var('pace_jump_share') }} then 1
            else 0
        end as is_change
    from with_previous

)

select * from final
