with

faces as (

    select * from {{ ref('int_faces_clustered') }}

),

staged as (

    select * from {{ ref('stg_faces') }}

),

-- eye midpoint, eye vector, nose and mouth midpoint, from MTCNN's five points
points as (

    select
        faces.face_id,
        faces.video_id,
        faces.frame_index,
        faces.timestamp_s,
        faces.influencer_id,
        faces.track_id,
        faces.face_height_ratio,
        (staged.x1 + staged.x2) / 2 / nullif(staged.frame_width, 0) as centre_x_share,
        (staged.y1 + staged.y2) / 2 / nullif(staged.frame_height, 0) as centre_y_share,
        (staged.landmarks[1] + staged.landmarks[3]) / 2 as eyes_x,
        (staged.landmarks[2] + staged.landmarks[4]) / 2 as eyes_y,
        staged.landmarks[3] - staged.landmarks[1] as eye_dx,
        staged.landmarks[4] - staged.landmarks[2] as eye_dy,
        staged.landmarks[5] as nose_x,
        staged.landmarks[6] as nose_y,
        (staged.landmarks[7] + staged.landmarks[9]) / 2 as mouth_x,
        (staged.landmarks[8] + staged.landmarks[10]) / 2 as mouth_y
    from faces
    inner join staged
        on faces.face_id = staged.face_id

),

-- yaw: the nose's offset from the eyes' midpoint along the eye line, in half eye-distances
-- (0 frontal, +-1 profile; ingest drops beyond 0.8); pitch: where the nose sits from the eye
-- line (0) to the mouth line (1), about 0.5 for a face square to the camera
posed as (

    select
        *,
        ((nose_x - eyes_x) * eye_dx + (nose_y - eyes_y) * eye_dy)
        / nullif((eye_dx * eye_dx + eye_dy * eye_dy) / 2, 0) as yaw_proxy,
        ((nose_x - eyes_x) * (mouth_x - eyes_x) + (nose_y - eyes_y) * (mouth_y - eyes_y))
        / nullif(
            (mouth_x - eyes_x) * (mouth_x - eyes_x) + (mouth_y - eyes_y) * (mouth_y - eyes_y), 0
        ) as pitch_proxy
    from points

),

final as (

    select
        face_id,
        video_id,
        frame_index,
        timestamp_s,
        influencer_id,
        track_id,
        face_height_ratio,
        centre_x_share,
        centre_y_share,
        yaw_proxy,
        pitch_proxy,
        coalesce(
            abs(yaw_proxy) <= {{ var('gaze_max_yaw') }}
            and pitch_proxy between {{ var('gaze_pitch')[0] }} and {{ var('gaze_pitch')[1] }},
            false
        ) as looks_at_camera
    from posed

)

select * from final
