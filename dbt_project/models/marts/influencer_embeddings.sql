with

embedded as (

    select * from {{ ref('int_influencers_embedded') }}

),

final as (

    select
        influencer_id,
        embedder,
        n_faces,
        centroid,
        -- the same-person cutoff for array_cosine_similarity(centroid, embed_face(...)),
        -- calibrated in docs/face_search.md, carried here so queries need no magic number
        {{ face_match_threshold('embedder') }} as same_person_threshold
    from embedded

)

select * from final
